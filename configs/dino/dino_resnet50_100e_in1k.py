# DINO baseline with a ResNet-50 base model (Tab. I, right half), 100 epochs, ImageNet-1k:
# the ViT-S/16 DINO baseline (main_dino.py's defaults, 8 GPUs x 64 = batch 512) with what DINO's
# README command for ResNet-50 changes ("main_dino.py --arch resnet50 --optimizer sgd --lr 0.03
# --weight_decay 1e-4 --weight_decay_end 1e-4 --global_crops_scale 0.14 1 --local_crops_scale
# 0.05 0.14"): SGD with momentum 0.9, lr 0.03 x total batch / 256 (warm-up from 0 over 10 epochs,
# cosine to 1e-6), weight decay 1e-4 held constant, wider crop scales. The rest stays
# main_dino.py's default, as for the ViT: projection head without BN, 65536 outputs, normalised
# last layer, per-tensor clipping at 3.0, teacher momentum 0.996 -> 1, teacher temperature 0.04,
# last layer frozen for epoch 1, 8 local crops. BatchNorm is synchronised over the GPUs, student
# and teacher, as main_dino.py does (SyncBatchNorm); the teacher runs in training mode (batch
# statistics), as DINO's. DINO trains in fp16: add --amp.
_base_ = './dino_vits16_100e_in1k.py'
model = dict(network=dict(backbone=dict(_delete_=True, type='TimmBackbone', model_name='resnet50')))
sync_bn = 'torch'

base_lr = 0.03
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='SGD', lr=base_lr, momentum=0.9, weight_decay=1e-4))
param_scheduler = [  # the ViT baseline's lr schedule, without its weight-decay schedule
    dict(type='WarmupCosineLR', eta_min=1e-6, warmup=10, by_epoch=True, begin=0, end=100,
         convert_to_iter_based=True),
]

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='DINOMultiCrop',
         global_crops_size=224, local_crops_size=96,
         global_crops_scale=(0.14, 1.0), local_crops_scale=(0.05, 0.14),
         local_crops_number=8),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
