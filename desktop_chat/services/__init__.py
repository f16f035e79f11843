"""Application services: QObjects that do the work and announce what changed through signals."""
