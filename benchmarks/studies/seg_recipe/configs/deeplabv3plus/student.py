# Second-family student, trained alone (the baseline): DeepLabV3+ R18 at quarter width (base 16),
# head channels 64, low-level projection 6 channels.
_base_ = ['./teacher.py']
model = dict(
    backbone=dict(base_channels=16, stem_channels=16),
    decode_head=dict(in_channels=128, channels=64, c1_in_channels=16, c1_channels=6),
    auxiliary_head=dict(in_channels=64, channels=32))
