# Full fine-tuning on CIFAR-10 (32 px) of a pre-trained ViT-Tiny/4:
# finetune_vits16_100e_in1k.py (Tab. XXI's ViT-S/16 column: 100 epochs, 5 warm-up,
# base lr 5e-4 per 256 images, drop path 0.1, layer decay 0.65) at CIFAR scale,
# one GPU, batch 256. Data as in linear_vitt4_100e_cifar10.py.
#   python tools/train.py configs/benchmarks/finetune_vitt4_100e_cifar10.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=OUT
_base_ = './finetune_vits16_100e_in1k.py'

num_classes = 10
data_root = '{{$CIFAR10_ROOT:data/cifar10}}'
model = dict(
    data_preprocessor=dict(num_classes=num_classes, mean=[125.3, 123.0, 113.9],
                           std=[63.0, 62.1, 66.7]),
    backbone=dict(arch='deit-tiny', img_size=32, patch_size=4),  # = hssl's 'tiny' (192 wide)
    head=dict(num_classes=num_classes, in_channels=192))
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='RandomResizedCrop', scale=32, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=[125, 123, 114], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
         max_area_ratio=1 / 3, fill_color=[113.9, 123.0, 125.3], fill_std=[66.7, 62.1, 63.0]),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImage'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=256, num_workers=8,
    dataset=dict(data_root=data_root + '/train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=256, num_workers=8,
    dataset=dict(data_root=data_root + '/test', pipeline=test_pipeline))
test_dataloader = val_dataloader
batch_size = 256
optim_wrapper = dict(optimizer=dict(lr=5e-4 * batch_size / 256))
auto_scale_lr = dict(base_batch_size=batch_size)
default_hooks = dict(logger=dict(interval=50))
