"""The SpiffWorkflow adapter.  Nothing outside this package imports SpiffWorkflow."""
