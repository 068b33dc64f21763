"""``train_ser_gpu`` runs where ``ai_server`` cannot be imported, so it restates ``train_ser``'s recipe: the
two must hold out the same speakers and train each member the same way."""

from ai_server.audio import features
from ai_server.audio.decode import SAMPLE_RATE
from ai_server.training import data_ser, train_ser
from ai_server.training import train_ser_gpu as gpu


def test_held_out_speakers_and_labels_are_train_sers() -> None:
    assert gpu.HELD_OUT == train_ser.HELD_OUT
    assert train_ser.ADDED["half"] == gpu.HALF
    assert gpu.LABELS == data_ser.LABELS
    assert gpu.CORPORA == data_ser.CORPORA
    assert gpu.VARIANTS == data_ser.VARIANTS


def test_members_and_schedule_are_train_sers() -> None:
    for name, (seed, per_corpus, architecture, epochs) in gpu.GPU_MEMBERS.items():
        member = train_ser.MEMBERS[name]
        assert (member.seed, member.architecture, member.epochs) == (seed, architecture, epochs)
        assert tuple(member.windows_per_clip[c] for c in gpu.CORPORA) == per_corpus
    assert (gpu.BATCH, gpu.PEAK_LR, gpu.EQ_DB) == (train_ser.BATCH, train_ser.PEAK_LR, train_ser.EQ_DB)
    assert (gpu.FINETUNE_EPOCHS, gpu.FINETUNE_LR) == (train_ser.FINETUNE_EPOCHS, train_ser.FINETUNE_LR)


def test_windows_are_the_services() -> None:
    assert (gpu.N_MELS, gpu.WINDOW, gpu.TOP_DB) == (features.N_MELS, features.WINDOW_FRAMES, features.TOP_DB)
    assert gpu.HOP_S == features.HOP_LENGTH / SAMPLE_RATE


def test_keras_recurrent_networks_have_the_twins_sizes() -> None:
    for architecture, (convs, frame, units, head) in gpu.CRNNS.items():
        model = train_ser.build_ser_model(architecture)
        shapes = {w.path.split("/")[0]: w.shape for w in model.weights if w.path.endswith("kernel")}
        assert [s[-1] for n, s in shapes.items() if n.startswith("conv2d")] == list(convs)
        assert shapes[next(n for n in shapes if n.startswith("dense"))] == (4 * convs[-1], frame)
        assert model.get_layer(index=-1).kernel.shape == (head, len(gpu.LABELS))
        gru = next(w for w in model.weights if "forward" in w.path and w.path.endswith("recurrent_kernel"))
        assert gru.shape == (units, 3 * units)
