"""Operations: metrics and health endpoints."""
