"""The job on local Spark, no account: checks first (``checks``), the installation of local Spark
(``spark``), the driver process (``driver``, run as ``python -m sparklab.job.local.driver``), its
process tree (``procs``), the sampler of this machine (``sampler``) and the run itself (``run``)."""
