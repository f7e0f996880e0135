"""Training tricks: options that compose with any variant (each module cites its paper).

    d_inputs          one-sided label smoothing, instance noise, DiffAugment: what D sees
    feature_matching  G matches the mean of D's last hidden layer
    minibatch         minibatch discrimination and minibatch standard deviation layers for D
    historical        historical averaging penalty
    vbn               virtual batch normalisation in G
    spectral          spectral normalisation of D's layers
    image_pool        a history of generated images for D (Shrivastava et al. 2017; CycleGAN)
    pack              PacGAN: D judges packs of M samples of one source (Lin et al. 2018)
    unroll            unrolled GAN: G's loss through K look-ahead steps of D (Metz et al. 2017)
    bundle            `Tricks`: the per-run object every variant calls in its D and G phases

Modules are imported explicitly (`from ganforge.tricks.vbn import …`) so the network code can
use the layers without pulling in the variants.
"""
