import json

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, f1_score, recall_score
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from simgen.train.metrics import (
    Ensemble,
    average_probabilities,
    clip_metrics,
    confusion_matrix,
    edit_score,
    median_smooth,
    median_smooth_labels,
    segment_counts,
    segmentation_metrics,
    segments_of,
    viterbi_decode,
)

# video 1: one segment too long, one missed   | video 2: over-segmented, poorly overlapping
TRUE_1 = [0] * 4 + [1] * 4 + [2] * 2
PRED_1 = [0] * 3 + [1] * 7  # IoUs 3/4 and 4/7; class-2 segment missed
TRUE_2 = [0] * 10
PRED_2 = [0] * 3 + [1] * 7  # IoU 3/10 with the truth, plus a false class-1 segment


class TestClipMetrics:
    def test_hand_made(self):
        m = clip_metrics([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], ["a", "b", "c", "d"])
        assert m["accuracy"] == pytest.approx(0.6)
        assert m["per_class"] == {"a": 0.5, "b": 1.0, "c": 0.0, "d": None}
        assert m["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)
        assert m["macro_f1"] == pytest.approx(f1_score([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], average="macro"))
        assert m["confusion_counts"] == [[1, 1, 0, 0], [0, 2, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
        assert m["confusion"][0] == [0.5, 0.5, 0.0, 0.0]
        assert m["n_clips"] == 5 and m["classes"] == ["a", "b", "c", "d"]
        json.dumps(m)

    def test_random_labels_match_sklearn(self):
        rng = np.random.default_rng(0)
        y, p = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
        m = clip_metrics(y, p, list("abcd"))
        assert m["accuracy"] == pytest.approx(accuracy_score(y, p))
        assert m["macro_f1"] == pytest.approx(f1_score(y, p, average="macro"))
        assert m["confusion_counts"] == sk_confusion_matrix(y, p, labels=range(4)).tolist()
        recall = recall_score(y, p, average=None, labels=range(4))
        assert [m["per_class"][c] for c in "abcd"] == pytest.approx(recall.tolist())
        np.testing.assert_allclose(m["confusion"], sk_confusion_matrix(y, p, labels=range(4), normalize="true"),
                                   atol=1e-6)

    def test_rows_are_truth(self):
        cm = confusion_matrix([0, 0, 0], [1, 1, 2], 3)  # every clip of class 0, none predicted 0
        assert cm.tolist() == [[0, 2, 1], [0, 0, 0], [0, 0, 0]]
        assert clip_metrics([0, 0, 0], [1, 1, 2], list("abc"))["per_class"] == {"a": 0.0, "b": None, "c": None}

    @pytest.mark.parametrize("y_true,y_pred,needle", [
        ([0, -1], [0, 0], "y_true[1] = -1"),  # numpy indexing would count it as the last class
        ([0, 1], [0, 3], "y_pred[1] = 3"),
        ([0, 1, 2], [0, 1], "3 labels but y_pred has 2"),
        ([0.5], [0], "integers"),
    ])
    def test_confusion_rejects_bad_labels(self, y_true, y_pred, needle):
        with pytest.raises(ValueError) as err:
            confusion_matrix(y_true, y_pred, 3)
        assert needle in str(err.value)
        with pytest.raises(ValueError):
            clip_metrics(y_true, y_pred, list("abc"))


class TestSegmentMetrics:
    def test_segments_of(self):
        assert segments_of([1, 1, -1, 2, 2, 2]) == [(1, 0, 2), (2, 3, 6)]

    def test_video_1(self):
        m = segmentation_metrics([(PRED_1, TRUE_1)])
        assert m["frame_accuracy"] == pytest.approx(0.7)
        assert m["edit"] == pytest.approx(2 / 3)
        for k in (10, 25, 50):  # tp=2, fp=0, fn=1
            assert m[f"f1@{k}"] == pytest.approx(0.8)

    def test_video_2_threshold_matters(self):
        m = segmentation_metrics([(PRED_2, TRUE_2)])
        assert m["frame_accuracy"] == pytest.approx(0.3)
        assert m["edit"] == pytest.approx(0.5)
        assert m["f1@10"] == pytest.approx(2 / 3) and m["f1@25"] == pytest.approx(2 / 3)
        assert m["f1@50"] == 0.0

    def test_aggregate_sums_counts_and_averages_edit(self):
        m = segmentation_metrics([(PRED_1, TRUE_1), (PRED_2, TRUE_2)])
        assert m["frame_accuracy"] == pytest.approx(0.5)
        assert m["edit"] == pytest.approx((2 / 3 + 0.5) / 2)
        assert m["f1@10"] == pytest.approx(0.75)  # tp 3, fp 1, fn 1
        assert m["f1@50"] == pytest.approx(0.5)  # tp 2, fp 0+2, fn 1+1

    def test_iou_exactly_at_threshold_counts(self):
        # IoUs 2/4 = 0.50 (class 0) and 4/6 (class 1); threshold is inclusive, as in MS-TCN
        m = segmentation_metrics([([0] * 2 + [1] * 6, [0] * 4 + [1] * 4)])
        assert m["f1@50"] == 1.0
        # IoU 1/4 exactly: a hit at 25 %, a miss above
        m = segmentation_metrics([([0] * 1 + [1] * 7, [0] * 4 + [1] * 4)])
        assert m["f1@25"] == 1.0 and m["f1@50"] == pytest.approx(0.5)

    def test_segment_counts_tp_fp_fn(self):
        # F1 is symmetric in fp and fn: check the counts themselves
        assert segment_counts(PRED_1, TRUE_1, 0.5) == (2, 0, 1)
        assert segment_counts(PRED_2, TRUE_2, 0.1) == (1, 1, 0)
        assert segment_counts(PRED_2, TRUE_2, 0.5) == (0, 2, 1)
        # a true segment is matched once: the second prediction over it is a false positive
        assert segment_counts([0, 0, 1, 0, 0], [0] * 5, 0.1) == (1, 2, 0)

    def test_unknown_frames_are_ignored(self):
        m = segmentation_metrics([([1, 1, 0, 0], [-1, -1, 0, 0])])
        assert m["frame_accuracy"] == 1.0 and m["f1@50"] == pytest.approx(2 / 3)

    def test_perfect_and_edit_ignores_durations(self):
        assert segmentation_metrics([(TRUE_1, TRUE_1)])["f1@50"] == 1.0
        assert edit_score([0, 1, 1, 1, 2], [0, 0, 0, 1, 2]) == 1.0

    def test_length_mismatch(self):
        with pytest.raises(ValueError, match="length"):
            segmentation_metrics([([0, 1], [0])])


class TestDecode:
    def test_median_removes_single_frame_flicker(self):
        labels = np.array([0, 0, 0, 1, 0, 0, 2, 2, 2, 2])
        assert median_smooth_labels(labels, 3, 3).tolist() == [0, 0, 0, 0, 0, 0, 2, 2, 2, 2]
        scores = np.array([[0.0], [0.0], [5.0], [0.0], [0.0]])
        assert median_smooth(scores, 3)[:, 0].tolist() == [0, 0, 0, 0, 0]

    def test_viterbi_min_duration(self):
        probs = np.array([[0.9, 0.1]] * 4 + [[0.3, 0.7]] * 2 + [[0.9, 0.1]] * 4)
        lp = np.log(probs)
        assert viterbi_decode(lp, min_duration=1).tolist() == probs.argmax(1).tolist()
        assert viterbi_decode(lp, min_duration=3).tolist() == [0] * 10  # a 2-frame segment is too short
        long = np.array([[0.9, 0.1]] * 4 + [[0.3, 0.7]] * 4 + [[0.9, 0.1]] * 4)
        assert viterbi_decode(np.log(long), min_duration=3).tolist() == [0] * 4 + [1] * 4 + [0] * 4

    def test_viterbi_switch_penalty_and_per_class_duration(self):
        probs = np.array([[0.6, 0.4]] * 3 + [[0.4, 0.6]] * 3)
        assert viterbi_decode(np.log(probs), switch_penalty=5.0).tolist() == [0] * 6
        lp = np.log(np.array([[0.9, 0.1]] * 3 + [[0.2, 0.8]] * 3 + [[0.9, 0.1]]))
        assert viterbi_decode(lp, min_duration=[1, 4]).tolist() == [0, 0] + [1] * 4 + [0]


class TestEnsemble:
    def test_average_probabilities(self):
        a = torch.log(torch.tensor([[0.8, 0.2]]))
        b = torch.log(torch.tensor([[0.2, 0.8]]))
        torch.testing.assert_close(average_probabilities([a, b]), torch.tensor([[0.5, 0.5]]))
        torch.testing.assert_close(average_probabilities([a, b], [3, 1]), torch.tensor([[0.65, 0.35]]))

    def test_ensemble_module(self):
        class Fixed(torch.nn.Module):
            def __init__(self, p):
                super().__init__()
                self.p = torch.tensor(p)

            def forward(self, x):
                return dict(clip=self.p.log().expand(x.shape[0], -1))

        ens = Ensemble([Fixed([0.9, 0.1]), Fixed([0.3, 0.7])])
        out = ens(torch.zeros(2, 1))
        torch.testing.assert_close(out["clip"].exp(), torch.tensor([[0.6, 0.4]] * 2))
