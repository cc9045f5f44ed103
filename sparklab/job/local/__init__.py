"""The job on local Spark, no account: checks first (``checks``), the installation of local Spark
(``spark``), the driver process watched (``watch``: the launcher, :mod:`sparklab.job.launcher`,
runs the application), its process tree (``procs``), the sampler of this machine (``sampler``), a
submitted application's run (``submit``) and WordCount's run, the bundled application through
the same submission (``run``)."""
