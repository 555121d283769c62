"""Third-party recovery (第三方追偿) of what the fund paid in advance."""
