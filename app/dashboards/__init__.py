"""Dashboards with charts (Apache ECharts, served locally) for the scheme members and the banks."""
