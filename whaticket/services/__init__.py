"""Business logic: functions that take company_id first, raise AppError and never commit."""
