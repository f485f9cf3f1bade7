# MAE's schedule (facebookresearch/mae main_pretrain.py, PRETRAIN.md): AdamW betas
# (0.9, 0.95), lr = blr 1.5e-4 x effective batch / 256 (auto_scale_lr, always on as
# in main_pretrain.py), weight decay 0.05 (none on biases and 1-D parameters), 40
# warm-up epochs from 0 (lr x epoch / warmup_epochs, per iteration), cosine decay to
# 0. 400 epochs (HSSL Tab. V: 400 pre-training + 200 fine-tuning epochs).
max_epochs = 400
warmup_epochs = 40
base_lr = 1.5e-4  # MAE's blr, per 256 images (auto_scale_lr below)

optim_wrapper = dict(
    type='OptimWrapper',
    constructor='TrainableOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(flat_decay_mult=0.0, bias_decay_mult=0.0, norm_decay_mult=0.0))

param_scheduler = [
    dict(type='WarmupCosineLR', eta_min=0.0, warmup=warmup_epochs, warmup_linspace=False,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# lr = base_lr x (GPUs x batch per GPU x accumulation) / 256, whatever the GPU count
auto_scale_lr = dict(base_batch_size=256, enable=True)
custom_hooks = []
