"""What each sample student and each attack writes: one module per chapter, plus `attacks`."""
