"""The drivers `genlab.train` calls: fit.py (one-call fits), train.py (gan/wgan/vae with the
loop), resume.py (finding and vetting checkpoints), load.py (a finished run back)."""
