# MAE baseline on CIFAR-10 (32 px): ViT-Tiny with patch 4 (8x8 grid, 16 visible
# patches at mask ratio 0.75), a smaller decoder (256 wide, 4 blocks, 8 heads),
# random resized crops of scale (0.2, 1) and flips. Data: the class-folder tree
# cifar10/{train,test} found through CIFAR10_ROOT (default data/cifar10):
#   CIFAR10_ROOT=~/.cache/hssl-data/cifar10 python tools/train.py CONFIG
# (results on that lossy JPEG copy are "CIFAR-10 (JPEG q75)").
_base_ = './mae_vits16_400e_in1k.py'
data_root = '{{$CIFAR10_ROOT:data/cifar10}}'
patch_size = 4
model = dict(
    data_preprocessor=dict(mean=[125.3, 123.0, 113.9], std=[63.0, 62.1, 66.7]),
    network=dict(backbone=dict(arch='tiny', img_size=32, patch_size=patch_size)),
    decoder=dict(num_patches=64, patch_size=patch_size, decoder_embed_dim=256,
                 decoder_depth=4, decoder_num_heads=8),
    pixel_head=dict(patch_size=patch_size))
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.0), backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256, num_workers=8,
    dataset=dict(type='ImageFolder', data_root=data_root + '/train', with_label=False,
                 pipeline=train_pipeline))
knn_pipeline = [dict(type='LoadImage'), dict(type='PackInputs')]
knn_train_dataset = dict(type='ImageFolder', data_root=data_root + '/train', pipeline=knn_pipeline)
knn_test_dataset = dict(type='ImageFolder', data_root=data_root + '/test', pipeline=knn_pipeline)
optim_wrapper = dict(accumulative_counts=1)
