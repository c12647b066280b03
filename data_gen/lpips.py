"""LPIPS v0.1 with the AlexNet backbone in plain torch (torchvision is not a dependency), and the
conversion of the two published weight files into the one safetensors file data_gen.metrics loads.

Kept apart from data_gen.metrics so that data_gen.tiny_diffusion can build a random `tiny-lpips`
without importing the metrics (which resolve tiny ids through data_gen.tiny_diffusion).
"""

from __future__ import annotations

LPIPS_FILE = "lpips_alex.safetensors"


class LPIPSAlex:
    """LPIPS v0.1 with the AlexNet backbone, built in plain torch (torchvision is not a dependency)."""

    CHANNELS = (64, 192, 384, 256, 256)

    @staticmethod
    def module():
        import torch

        nn = torch.nn

        class _LPIPS(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(
                    nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Conv2d(64, 192, 5, padding=2),
                    nn.ReLU(), nn.MaxPool2d(3, 2), nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
                    nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.Conv2d(256, 256, 3, padding=1), nn.ReLU())
                self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in LPIPSAlex.CHANNELS)
                self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1))
                self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1))

            def _taps(self, x):
                out = []
                for i, layer in enumerate(self.features):
                    x = layer(x)
                    if i in (1, 4, 7, 9, 11):  # after each ReLU, as in lpips
                        out.append(x / (x.pow(2).sum(1, keepdim=True).sqrt() + 1e-10))
                return out

            def forward(self, a, b):
                """a, b: [N, 3, H, W] in [-1, 1] -> [N] distances."""
                fa, fb = self._taps((a - self.shift) / self.scale), self._taps((b - self.shift) / self.scale)
                return sum(lin((x - y).pow(2)).mean((2, 3)) for lin, x, y in zip(self.lins, fa, fb)).flatten()

        return _LPIPS()


def convert_lpips_weights(alexnet_pth: str, lpips_pth: str, out: str) -> None:
    """torchvision alexnet + lpips linear layers (.pth, loaded weights_only) -> one safetensors file."""
    import torch
    from safetensors.torch import save_file

    alex = torch.load(alexnet_pth, map_location="cpu", weights_only=True)
    lins = torch.load(lpips_pth, map_location="cpu", weights_only=True)
    state = {k: v for k, v in alex.items() if k.startswith("features.")}
    state.update({f"lins.{i}.weight": lins[f"lin{i}.model.1.weight"] for i in range(5)})
    model = LPIPSAlex.module()
    state.update({k: v for k, v in model.state_dict().items() if k in ("shift", "scale")})
    model.load_state_dict(state, strict=True)  # names any missing / unexpected tensor
    save_file({k: v.contiguous() for k, v in state.items()}, out)
