# MAE's schedule: AdamW betas (0.9, 0.95), lr 1.5e-4 x batch / 256, weight decay
# 0.05 (none on biases and 1-D parameters), 40 warm-up epochs, cosine decay to 0.
# 400 epochs (HSSL Tab. V: 400 pre-training + 200 fine-tuning epochs).
max_epochs = 400
warmup_epochs = 40
base_lr = 1.5e-4  # for a total batch of 256 (auto_scale_lr below)

optim_wrapper = dict(
    type='OptimWrapper',
    constructor='TrainableOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(flat_decay_mult=0.0, bias_decay_mult=0.0, norm_decay_mult=0.0))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=256, enable=False)
custom_hooks = []
