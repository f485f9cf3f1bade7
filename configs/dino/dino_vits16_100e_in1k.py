# DINO baseline: ViT-S/16, 100 epochs, ImageNet-1k: DINO's vanilla run (its README:
# 8 GPUs x 64 = batch 512, k-NN 69.3), main_dino.py's defaults. DINO trains in fp16:
#   tools/dist_train.sh configs/dino/dino_vits16_100e_in1k.py 8 --amp
_base_ = [
    '../_base_/models/dino_vits16.py',
    '../_base_/datasets/imagenet_dino.py',
    '../_base_/schedules/dino_100e.py',
    '../_base_/default_runtime.py',
]
