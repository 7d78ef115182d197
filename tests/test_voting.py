"""Majority vote over patch predictions (CNN_1_Mvote) and its documented tie-break."""

import numpy as np
import pytest

from edgeiqa.voting import majority_vote, mean_probabilities, vote


def one_hotish(classes, n_classes=4, p=0.7):
    """Patch probabilities with ``p`` on the given class and the rest spread evenly."""
    out = np.full((len(classes), n_classes), (1 - p) / (n_classes - 1))
    out[np.arange(len(classes)), classes] = p
    return out


def test_clear_majority_wins_even_against_confidence():
    probs = one_hotish([2, 2, 2, 0])
    probs[3] = [0.99, 0.0, 0.01, 0.0]  # one very confident dissenter does not outvote three
    assert vote(probs) == 2


def test_tie_goes_to_higher_summed_probability():
    probs = np.array(
        [
            [0.10, 0.60, 0.20, 0.10],  # votes 1
            [0.05, 0.50, 0.40, 0.05],  # votes 1
            [0.00, 0.10, 0.90, 0.00],  # votes 2
            [0.00, 0.35, 0.65, 0.00],  # votes 2
        ]
    )
    # 2 votes each for classes 1 and 2; summed probability 1.55 (1) vs 2.15 (2)
    assert vote(probs) == 2


def test_exact_tie_goes_to_worse_class():
    probs = np.array([[0.0, 0.0, 0.4, 0.6], [0.0, 0.0, 0.6, 0.4]])
    # one vote each for 3 and 2 with equal sums (1.0): the worse (lower) class
    assert vote(probs) == 2
    assert vote(np.full((3, 4), 0.25)) == 0


def test_majority_vote_over_several_images_in_any_order():
    probs = np.vstack([one_hotish([1, 1, 3]), one_hotish([0, 2, 2, 2]), one_hotish([3])])
    parent = np.array([0, 0, 0, 1, 1, 1, 1, 2])
    order = np.random.default_rng(0).permutation(len(parent))
    assert majority_vote(probs, parent).tolist() == [1, 2, 3]
    assert majority_vote(probs[order], parent[order]).tolist() == [1, 2, 3]


def test_image_without_patches_is_an_error():
    with pytest.raises(ValueError, match="no patches"):
        majority_vote(one_hotish([1, 2]), [0, 2], n_images=3)
    with pytest.raises(ValueError):
        vote(np.zeros((0, 4)))


def test_mean_probabilities():
    probs = np.array([[1.0, 0.0], [0.0, 1.0], [0.2, 0.8]])
    out = mean_probabilities(probs, [0, 0, 1])
    assert np.allclose(out, [[0.5, 0.5], [0.2, 0.8]])
