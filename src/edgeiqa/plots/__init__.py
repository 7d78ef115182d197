"""The figures the notebooks show, one module per notebook topic."""
