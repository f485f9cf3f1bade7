# MoCo v3 baseline on CIFAR-10 (32 px): ViT-Tiny with patch 4 (8x8 grid), two
# 32 px views of scale (0.2, 1). Data: the class-folder tree cifar10/{train,test}
# (e.g. ../shared/data/cifar10-jpeg.tar.gz unpacked), found through the
# environment variable CIFAR10_ROOT (default data/cifar10):
#   CIFAR10_ROOT=~/.cache/hssl-data/cifar10 python tools/train.py CONFIG
# (results on that lossy JPEG copy are "CIFAR-10 (JPEG q75)").
_base_ = './mocov3_vits16_100e_in1k.py'
data_root = '{{$CIFAR10_ROOT:data/cifar10}}'
model = dict(
    data_preprocessor=dict(mean=[125.3, 123.0, 113.9], std=[63.0, 62.1, 66.7]),
    network=dict(backbone=dict(arch='tiny', img_size=32, patch_size=4)))
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='DINOMultiCrop', global_crops_size=32, global_crops_scale=(0.2, 1.0),
         local_crops_number=0),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256, num_workers=8,
    dataset=dict(type='ImageFolder', data_root=data_root + '/train', with_label=False,
                 pipeline=train_pipeline))
knn_pipeline = [dict(type='LoadImage'), dict(type='PackInputs')]
knn_train_dataset = dict(type='ImageFolder', data_root=data_root + '/train', pipeline=knn_pipeline)
knn_test_dataset = dict(type='ImageFolder', data_root=data_root + '/test', pipeline=knn_pipeline)
