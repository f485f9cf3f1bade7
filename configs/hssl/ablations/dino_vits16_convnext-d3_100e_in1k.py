# Fig. 5: ConvNeXt auxiliary head of depth 3 (first shortcut removed) on ViT-S/16:
# the DINO + HSSL recipe itself.
_base_ = '../dino_vits16_convnext_100e_in1k.py'
