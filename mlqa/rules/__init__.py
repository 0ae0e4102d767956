"""mlqa's own rules: hardcoded hyperparameters (MLQ1xx) and devices (MLQ2xx).

One module per rule, named by what it flags (``hardcoded_hyperparameter``,
``hardcoded_positional_hyperparameter``, ``hardcoded_loop_bound``,
``hyperparameter_constant``, ``hardcoded_cuda_call``, ``hardcoded_device``),
each holding its code, message, docs and checks. The code table and the
node-type dispatch are in :mod:`~mlqa.rules.registry`, what a check sees in
:mod:`~mlqa.rules.context`, the pruned walk in :mod:`~mlqa.rules.engine`,
shared knowledge of hyperparameter APIs in
:mod:`~mlqa.rules.hyperparameter_apis`, and ``mlqa rule`` in
:mod:`~mlqa.rules.docs`.
"""
