"""Learning side of gazehead_rt: data, the PyTorch model, training and evaluation.

Needs the ``train`` extra (PyTorch). The runtime package ``gazehead_rt`` never imports this.
"""
