"""sparklab: one command for a kubeadm Spark lab on AWS EC2."""
