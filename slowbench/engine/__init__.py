"""Training/test machinery: LR schedule, checkpoint state, distributed setup, logging, evaluation glue."""
