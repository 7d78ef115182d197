"""Baselines computed in this study, on the same images and splits as the edge-map CNN.

- :mod:`edgeiqa.baselines.fr`: full-reference PSNR, SSIM (Wang et al. 2004), MS-SSIM (Wang et
  al. 2003);
- :mod:`edgeiqa.baselines.brisque`: BRISQUE features (Mittal, Moorthy and Bovik 2012) and an
  SVR retrained on each training split;
- :mod:`edgeiqa.baselines.brisque_published`: the authors' published BRISQUE model as shipped by
  the ``brisque`` package (trained on all of LIVE);
- :mod:`edgeiqa.baselines.niqe`: NIQE (Mittal, Soundararajan and Bovik 2013);
- :mod:`edgeiqa.baselines.nss`: the natural-scene-statistics fits BRISQUE and NIQE share;
- :mod:`edgeiqa.baselines.cnniqa`: CNNIQA (Kang et al. 2014), retrained on each training split;
- :mod:`edgeiqa.baselines.cache`: per-image feature cache.

Each baseline module also defines its :class:`~edgeiqa.methods.Method` (``FullReferenceMethod``,
``BrisqueSVR``, ``PublishedBrisque``, ``NIQEMethod``, ``CNNIQAMethod``); the experiment that runs
them beside the paper's CNN is :mod:`edgeiqa.experiments.comparison`.
"""
