"""Keras and JAX/optax training loops."""

import jax
import optax
import tensorflow as tf
from tensorflow import keras


def keras_fit(x_train, y_train, args):
    model = keras.Sequential(
        [
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.2),  # expect: MLQ102
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),  # expect: MLQ102
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(
        x_train,
        y_train,
        epochs=5,  # expect: MLQ101
        batch_size=32,  # expect: MLQ101
        validation_split=0.1,
    )
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size)
    tuned = tf.keras.optimizers.SGD(
        learning_rate=args.lr, momentum=0.9  # expect: MLQ101
    )
    return model, tuned


def jax_train(params, batches, loss_fn, config):
    optimizer = optax.adam(3e-4)  # expect: MLQ102
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, config.peak_lr, config.warmup, config.steps
    )
    tuned = optax.sgd(schedule, momentum=config.momentum)
    state = optimizer.init(params)
    for step in range(10_000):  # expect: MLQ103
        grads = jax.grad(loss_fn)(params, next(batches))
        updates, state = optimizer.update(grads, state, params)
        params = optax.apply_updates(params, updates)
    key = jax.random.PRNGKey(0)
    noise = jax.random.normal(key, (8, 128)) * 0.02
    return params, tuned, noise
