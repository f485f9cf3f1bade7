# iBOT baseline on CIFAR-10 (32 px): ViT-Tiny with patch 4 (8x8 grid), 2 x 32 px
# globals + 6 x 16 px locals. Data: the class-folder tree cifar10/{train,test}
# (e.g. ../shared/data/cifar10-jpeg.tar.gz unpacked), found through the
# environment variable CIFAR10_ROOT (default data/cifar10):
#   CIFAR10_ROOT=~/.cache/hssl-data/cifar10 python tools/train.py CONFIG
# (results on that lossy JPEG copy are "CIFAR-10 (JPEG q75)").
_base_ = './ibot_vits16_100e_in1k.py'
data_root = '{{$CIFAR10_ROOT:data/cifar10}}'
model = dict(
    data_preprocessor=dict(mean=[125.3, 123.0, 113.9], std=[63.0, 62.1, 66.7]),
    network=dict(backbone=dict(arch='tiny', img_size=32, patch_size=4)))
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='DINOMultiCrop',
         global_crops_size=32, local_crops_size=16,
         global_crops_scale=(0.25, 1.0), local_crops_scale=(0.05, 0.25),
         local_crops_number=6,
         global_extra_pipeline=[
             dict(type='BlockMaskGenerator', patch_size=4,
                  pred_ratio=(0.0, 0.3), pred_ratio_var=(0.0, 0.2), pred_shape='block')]),
    dict(type='PackInputs', algorithm_keys=['patch_mask']),
]
train_dataloader = dict(
    batch_size=256, num_workers=8,
    dataset=dict(type='ImageFolder', data_root=data_root + '/train', with_label=False,
                 pipeline=train_pipeline))
knn_pipeline = [dict(type='LoadImage'), dict(type='PackInputs')]
knn_train_dataset = dict(type='ImageFolder', data_root=data_root + '/train', pipeline=knn_pipeline)
knn_test_dataset = dict(type='ImageFolder', data_root=data_root + '/test', pipeline=knn_pipeline)
auto_scale_lr = dict(base_batch_size=256)
