# Tab. X, semi-supervised: linear probing of ViT-B/16 trained on 10% of the ImageNet-1k labels (a
# seeded, class-balanced subset: each class keeps 10% of its images; hssl.evaluation.label_fraction),
# evaluated on the full validation set. The rest is linear_vitb16_100e_in1k.py.
_base_ = './linear_vitb16_100e_in1k.py'
train_dataloader = dict(dataset=dict(label_fraction=0.1, label_seed=0))
