"""Experiment drivers behind the notebooks: each trains and evaluates models over labelled
splits (:mod:`edgeiqa.splits`) and returns plain tables that the notebooks save and plot."""
