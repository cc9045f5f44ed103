"""The job and what the user sees of it.

``runs`` (run ids, run folders, the job's inputs), ``result`` (the driver's result line),
``monitor`` (CPU and memory from the metrics API), ``live/`` (the live view), ``report`` (chart and
summary from saved data), ``local/`` (the same job on local Spark), ``tuning`` (Spark and JVM
settings), ``splitter`` (the word splitter's jar, from ``jvm/Words.java``) and ``wordcount_app``
(the application itself, shipped alone into the driver pod).

Imports ``core`` and ``config``; of ``cluster`` only ``cluster.progress``.
"""
