"""One vocabulary for where work runs (runtime.Device, runtime.Placement), and the CUDA paths
proved with a session that reports CUDA (factories.FakeCudaOnnxRuntime): no GPU needed."""

import numpy as np

from restorer_app.engine.imageio import ImageInfo, RasterImage
from restorer_app.engine.pipeline import AUTO_MODEL_BUDGET, InpaintRequest, Inpainter
from restorer_app.engine.provenance import operation_for
from restorer_app.engine.regions import regions_around_mask
from restorer_app.engine.registry import ModelRegistry
from restorer_app.engine.runtime import CPU, CUDA, OPENCV_CPU, Device, Placement

from factories import FakeCudaOnnxRuntime, make_photo


def test_provider_names_become_devices_in_one_place():
    assert Device.of_provider(CUDA) is Device.CUDA
    assert Device.of_provider(CPU) is Device.CPU
    assert Placement(Device.CUDA, "ONNX Runtime").label == "CUDA (ONNX Runtime)"
    assert OPENCV_CPU.label == "CPU (OpenCV)"


SIZE = 3000


def _many_specks() -> np.ndarray:
    """Dust all over a scan, 120 px apart: 625 separate regions whose model cost adds up."""
    mask = np.zeros((SIZE, SIZE), np.uint8)
    for y in range(60, SIZE, 120):
        for x in range(60, SIZE, 120):
            mask[y - 1:y + 2, x - 1:x + 2] = 255
    return mask


def test_a_session_reporting_cuda_is_placed_on_cuda_and_gets_the_cuda_budget(tiny_model_folder, monkeypatch):
    fake = FakeCudaOnnxRuntime(monkeypatch)
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    assert inpainter.expected_placement("auto") == Placement(Device.CUDA, "ONNX Runtime")
    assert fake.chains == [[CUDA, CPU]]  # the explicit chain asked for CUDA first
    image = RasterImage(make_photo(SIZE, SIZE), ImageInfo("PNG", 8))
    mask = _many_specks()
    method, _ = inpainter.resolve(InpaintRequest())
    regions_cost = sum(method.input_pixels(r, SIZE, SIZE) for r in regions_around_mask(mask, method.context_margin))
    # This mask costs more than the CPU budget and less than the CUDA budget.
    assert AUTO_MODEL_BUDGET[Device.CPU] < regions_cost < AUTO_MODEL_BUDGET[Device.CUDA]
    result = inpainter.inpaint(image, mask, InpaintRequest(grain=0.0))
    assert result.placement.device is Device.CUDA and result.provider == "CUDA (ONNX Runtime)"
    assert result.classical_pixels == 0  # the model filled everything: no thin-damage notice
    assert not any("Navier-Stokes" in n for n in result.notices)
    assert operation_for(result, InpaintRequest(), mask).device == "CUDA (ONNX Runtime)"


def test_the_same_mask_on_the_cpu_sends_thin_damage_to_navier_stokes(tiny_model_folder):
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    image = RasterImage(make_photo(SIZE, SIZE), ImageInfo("PNG", 8))
    result = inpainter.inpaint(image, _many_specks(), InpaintRequest(device=Device.CPU, grain=0.0))
    assert result.placement.device is Device.CPU
    assert result.classical_pixels > 0 and any("Navier-Stokes" in n for n in result.notices)


def test_cuda_listed_but_not_started_is_a_visible_notice(tiny_model_folder, monkeypatch):
    FakeCudaOnnxRuntime(monkeypatch, reported=(CPU,))
    inpainter = Inpainter(ModelRegistry([tiny_model_folder]))
    image = RasterImage(make_photo(40, 40), ImageInfo("PNG", 8))
    mask = np.zeros((40, 40), np.uint8)
    mask[10:20, 10:20] = 255
    result = inpainter.inpaint(image, mask, InpaintRequest(grain=0.0))
    assert result.placement == Placement(Device.CPU, "ONNX Runtime")
    assert any("running on the CPU" in n for n in result.notices)
