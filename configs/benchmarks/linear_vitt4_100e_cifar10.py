# Linear probing on CIFAR-10 (32 px) of a ViT-Tiny/4 pre-trained with
# configs/ibot/ibot_vitt4_100e_cifar10.py or configs/hssl/ibot_vitt4_convnext_100e_cifar10.py:
# linear_vits16_100e_in1k.py at CIFAR scale, one GPU, batch 256. Data: the class
# folders $CIFAR10_ROOT/{train,test} (default data/cifar10); results on the JPEG
# copy of the shared data are "CIFAR-10 (JPEG q75)".
#   python tools/train.py configs/benchmarks/linear_vitt4_100e_cifar10.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=OUT
_base_ = './linear_vits16_100e_in1k.py'

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
optim_wrapper = dict(optimizer=dict(lr=0.001 * batch_size / 256))
auto_scale_lr = dict(base_batch_size=batch_size)
default_hooks = dict(logger=dict(interval=50))
