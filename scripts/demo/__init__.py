"""The bundled demo family's recipe: tiny VAE, tiny camera-controlled CogVideoX and tiny LaLRM trained on
`wonderland-synth` scenes at 32 x 48 (49 frames, 13 latent frames). Entry: `scripts/train_demo_models.py`."""
