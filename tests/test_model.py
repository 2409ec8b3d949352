"ICFFNet beyond nbs/32_model (which tests the smoke profile: shapes, checkpoints, errors, learning, speed): every profile, several heads, parameter counts, both streams reach the output, the cpu profile learns, errors across profiles."
import pytest
import torch
from icff_kit.core import profile, input_shapes, IcffError
from icff_kit.model import ICFFNet, VARIANTS, count_params

PROFILES = ('smoke', 'cpu', 'paper')

def make_batch(cfg, B, seed=0):
    g = torch.Generator().manual_seed(seed)
    s = input_shapes(cfg)
    return dict(img=torch.rand(B, *s['img'], generator=g), x_t1=torch.randn(B, *s['x_t1'], generator=g) * 0.1,
                x_f1=torch.rand(B, *s['x_f1'], generator=g) * 3)

@pytest.mark.parametrize('prof', PROFILES)
@pytest.mark.parametrize('variant', VARIANTS)
def test_shapes_every_variant_every_profile(prof, variant):
    cfg = profile(prof, model__variant=variant)
    B = 1 if prof == 'paper' else 2
    batch = make_batch(cfg, B)
    m = ICFFNet.from_config(cfg).eval()
    with torch.no_grad(): logits, attn = m(**{k: batch[k] for k in m.inputs}, return_attn=True)
    assert logits.shape == (B, cfg.model.n_classes) and torch.isfinite(logits).all()
    T, N2 = input_shapes(cfg)['x_t1'][0], cfg.features.crop_w // 32
    expect = {'ic': {'alpha1': (B, 1, N2, T), 'alpha2': (B, 1, T, N2)}, 'cross': {'alpha2': (B, 1, T, N2)}}.get(variant, {})
    assert {k: tuple(a.shape) for k, a in attn.items()} == expect
    for a in attn.values(): torch.testing.assert_close(a.sum(-1), torch.ones_like(a.sum(-1)))
    print(f'{prof:6s} {variant:7s} params {count_params(m):>10,d}')

@pytest.mark.parametrize('tokens,n2', [('time', 4), ('grid', 16)])
def test_attention_maps_cpu_profile_multihead(tokens, n2):
    cfg = profile('cpu', model__tokens=tokens, model__n_heads=4, model__block='decoder')
    m = ICFFNet.from_config(cfg).eval()
    with torch.no_grad(): _, attn = m(**make_batch(cfg, 2), return_attn=True)
    assert attn['alpha1'].shape == (2, 4, n2, 32) and attn['alpha2'].shape == (2, 4, 32, n2)

def test_parameter_counts_follow_the_design():
    cfg = profile('cpu')
    n = {v: count_params(ICFFNet.from_config(profile('cpu', model__variant=v))) for v in VARIANTS}
    d = cfg.model.d_model
    assert n['ic'] - n['cross'] == 3 * d * d          # layer 1: W_Q1, W_K1, W_V1 (eqs. 2-4), no bias
    assert n['1d'] < n['2d'] < n['concat']
    head = lambda n_in: n_in * cfg.model.hidden + cfg.model.hidden + cfg.model.hidden * 10 + 10
    m = ICFFNet.from_config(cfg)
    assert count_params(m.head) == head(d)
    assert count_params(ICFFNet.from_config(cfg, head_from='u+u2').head) == head(2 * d)
    print({v: f'{c:,d}' for v, c in n.items()})

@pytest.mark.parametrize('variant', ('concat', 'cross', 'ic'))
def test_fused_output_depends_on_both_streams(variant):
    cfg = profile('smoke', model__variant=variant)
    m = ICFFNet.from_config(cfg).eval()
    b = {k: v.requires_grad_() for k, v in make_batch(cfg, 2).items()}
    m(**b).sum().backward()
    for k, v in b.items(): assert v.grad.abs().sum() > 0, k

@pytest.mark.parametrize('prof,variant,B', [('cpu', 'ic', 4)])   # the smoke profile's variants: nbs/32_model
def test_a_few_steps_lower_the_loss(prof, variant, B):
    torch.manual_seed(0)
    cfg = profile(prof, model__variant=variant)
    m = ICFFNet.from_config(cfg, n_classes=4)
    b, y = make_batch(cfg, B), torch.arange(B) % 4
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    losses = []
    for _ in range(8):
        loss = torch.nn.functional.cross_entropy(m(**b), y)
        opt.zero_grad(); loss.backward(); opt.step(); losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0], losses

def test_bad_inputs_are_named():
    cfg = profile('smoke')
    m = ICFFNet.from_config(cfg)
    b = make_batch(cfg, 2)
    with pytest.raises(IcffError, match='needs input img'): m(None, b['x_t1'], b['x_f1'])
    wrong = make_batch(profile('cpu'), 2)
    with pytest.raises(IcffError, match='input x_f1 has shape .2, 32, 513.*different profiles'): m(b['img'], b['x_t1'], wrong['x_f1'])
    with pytest.raises(IcffError, match="unknown model variant 'late'"): ICFFNet.from_config(profile('smoke', model__variant='late'))
    with pytest.raises(IcffError, match='needs 9 entries'): ICFFNet.from_config(profile('smoke', model__cnn2d_widths=(8, 8)))
    with pytest.raises(IcffError, match="tokens must be"): ICFFNet.from_config(profile('smoke', model__tokens='freq'))
