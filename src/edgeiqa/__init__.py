"""edgeiqa: a reproducible study of no-reference image quality assessment (NR-IQA) with small
CNNs on Sobel edge maps, rebuilding the "deep fake score" paper's experiments and testing its
claims with content-disjoint splits, computed baselines and confidence intervals."""

__version__ = "0.1.0"
