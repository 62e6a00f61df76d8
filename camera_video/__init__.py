"""Camera-guided video generation: CogVideoX-5B-I2V with dual-branch Plücker camera control (SPEC.md s2).

Kept light: importing the package pulls in nothing heavy; import `camera_video.models`,
`camera_video.pipeline` or `camera_video.train` for the real work.
"""
