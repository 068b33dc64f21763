"""Custom Keras layers used inside the served models; imported by the registry before loading."""

import keras


@keras.saving.register_keras_serializable(package="fasel")
class Mirror(keras.layers.Layer):
    """Horizontal mirror of an NHWC image batch (deterministic, for test-time augmentation in the graph)."""

    def call(self, inputs):
        return keras.ops.flip(inputs, axis=2)
