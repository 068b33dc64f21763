"""The late-fusion rule (pure function): windows, weights, missing modalities, label union."""

import math

import pytest

from web_server.services.fusion import Scored, fuse_timeline, fuse_vectors, window_face, window_voice


def test_fuse_vectors_weighted_average_on_label_union():
    face = {"happy": 0.8, "sad": 0.2}
    voice = {"happy": 0.2, "calm": 0.8}
    fused = fuse_vectors(face, voice, face_weight=0.6, voice_weight=0.4, labels=("happy", "sad", "calm"))
    assert fused["happy"] == pytest.approx(0.6 * 0.8 + 0.4 * 0.2)
    assert fused["sad"] == pytest.approx(0.6 * 0.2)
    assert fused["calm"] == pytest.approx(0.4 * 0.8)
    assert math.fsum(fused.values()) == pytest.approx(1.0)


def test_fuse_vectors_single_modality_takes_it_whole():
    voice = {"happy": 0.25, "calm": 0.75}
    assert fuse_vectors(None, voice, 0.9, 0.1, labels=("happy", "calm")) == pytest.approx(voice)
    assert fuse_vectors(None, None, 0.5, 0.5) == {}
    # a zero weight removes the modality
    assert fuse_vectors({"happy": 1.0}, voice, 0.0, 1.0, labels=("happy", "calm")) == pytest.approx(voice)


def test_window_face_means_frames_per_window():
    frames = [
        Scored(0.5, 0.5, {"happy": 1.0}),
        Scored(1.5, 1.5, {"sad": 1.0}),
        Scored(10.0, 10.0, {"angry": 1.0}),  # exactly on the boundary: next window
    ]
    w = window_face(frames, 10.0)
    assert w[0] == pytest.approx({"happy": 0.5, "sad": 0.5})
    assert w[1] == pytest.approx({"angry": 1.0})


def test_window_voice_weights_by_overlap():
    # 8 s to 14 s: 2 s in window 0, 4 s in window 1; 14 s to 16 s: window 1 only
    segs = [Scored(8.0, 14.0, {"calm": 1.0}), Scored(14.0, 16.0, {"happy": 1.0})]
    w = window_voice(segs, 10.0)
    assert w[0] == pytest.approx({"calm": 1.0})
    assert w[1] == pytest.approx({"calm": 4 / 6, "happy": 2 / 6})


def test_fuse_timeline_aligns_windows_and_names_sources():
    frames = [Scored(1.0, 1.0, {"happy": 0.9, "neutral": 0.1}), Scored(25.0, 25.0, {"sad": 1.0})]
    segs = [Scored(0.0, 5.0, {"calm": 0.6, "happy": 0.4}), Scored(12.0, 15.0, {"angry": 1.0})]
    out = fuse_timeline(frames, segs, window_s=10.0, face_weight=0.5, voice_weight=0.5)
    assert [(e["start_s"], e["end_s"], e["sources"]) for e in out] == [
        (0.0, 10.0, ["face", "voice"]),
        (10.0, 20.0, ["voice"]),
        (20.0, 30.0, ["face"]),
    ]
    first = out[0]
    assert first["scores"]["happy"] == pytest.approx(0.5 * 0.9 + 0.5 * 0.4)
    assert first["scores"]["calm"] == pytest.approx(0.3)
    assert first["emotion"] == "happy" and first["confidence"] == pytest.approx(0.65)
    assert out[1]["emotion"] == "angry" and out[2]["emotion"] == "sad"
    for e in out:
        assert math.fsum(e["scores"].values()) == pytest.approx(1.0)


def test_fuse_timeline_rejects_bad_window():
    with pytest.raises(ValueError):
        fuse_timeline([], [], window_s=0, face_weight=1, voice_weight=1)
