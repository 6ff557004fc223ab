"""Bank and department performance evaluation (绩效评价): targets, actuals, confirmation, the pool's deposits."""
