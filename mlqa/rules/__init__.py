"""mlqa's own rules: hardcoded hyperparameters (MLQ1xx) and devices (MLQ2xx).

One module per rule family (:mod:`~mlqa.rules.hyperparameters`,
:mod:`~mlqa.rules.devices`), the code table in :mod:`~mlqa.rules.registry`,
the single pruned pass in :mod:`~mlqa.rules.engine`, and ``mlqa rule`` in
:mod:`~mlqa.rules.docs`.
"""
