"""Demand forecasting: statsforecast baselines, a global gradient-boosting model, backtests."""
