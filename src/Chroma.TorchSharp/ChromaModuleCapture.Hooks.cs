using Chroma.TorchSharp.Internal;
using static TorchSharp.torch;

namespace Chroma.TorchSharp;

public sealed partial class ChromaModuleCapture
{
    private bool NeedsModelHooks => _output != ModelOutputKind.None || ReferenceEquals(Layer, _model);

    private void RegisterHooks()
    {
        var layer = Layer;
        if (!ReferenceEquals(layer, _model))
        {
            _removeHooks.Add(layer.register_forward_hook(OnLayerForward).remove);
        }

        if (NeedsModelHooks)
        {
            _removeHooks.Add(_model.register_forward_pre_hook(OnModelForwardStarting).remove);
            _removeHooks.Add(_model.register_forward_hook(OnModelForwardDone).remove);
        }
    }

    /// <summary>Decides once per forward whether it is captured, so the later hooks only read a field.</summary>
    private Tensor OnModelForwardStarting(nn.Module<Tensor, Tensor> module, Tensor input)
    {
        try
        {
            if (!_disposed)
            {
                var state = _state.Value!;
                state.HasEmbeddings = false;
                state.Phase = ShouldCapture() ? ForwardPhase.Capturing : ForwardPhase.Skipping;
            }
        }
#pragma warning disable CA1031 // Capture must never throw into the user's forward.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ReportSkipped(ex.GetType().Name, ex);
        }

        return null!; // null: the input is not replaced.
    }

    private Tensor OnLayerForward(nn.Module<Tensor, Tensor> module, Tensor input, Tensor output)
    {
        if (_disposed)
        {
            return null!;
        }

        try
        {
            var state = _state.Value!;
            if (!NeedsModelHooks)
            {
                // Embedding-only capture: the layer's output is all there is to log, so log it now.
                if (ShouldCapture())
                {
                    CopyEmbeddings(output, state);
                    LogRows(state, outputs: default, classes: 0);
                }

                return null!;
            }

            switch (state.Phase)
            {
                case ForwardPhase.Capturing:
                    CopyEmbeddings(output, state);
                    break;
                case ForwardPhase.Idle when _set.ShouldCapture:
                    // The model's own hooks did not run: the layer ran outside a call of the model, either because the
                    // model was called with forward() (which skips hooks) or because the layer was called on its own.
                    ReportSkipped(
                        "the layer ran outside a call of the model",
                        "the layer ran outside a call of the model, so nothing was captured: call the model with model.call(input) (forward() skips hooks); a layer called on its own is not captured");
                    break;
            }
        }
#pragma warning disable CA1031 // Capture must never throw into the user's forward.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ReportSkipped(ex.GetType().Name, ex);
        }

        return null!; // null: the output is not replaced.
    }

    private Tensor OnModelForwardDone(nn.Module<Tensor, Tensor> module, Tensor input, Tensor output)
    {
        if (_disposed)
        {
            return null!;
        }

        ForwardState? state = null;
        try
        {
            state = _state.Value!;
            if (state.Phase != ForwardPhase.Capturing)
            {
                return null!;
            }

            if (ReferenceEquals(Layer, _model))
            {
                CopyEmbeddings(output, state);
            }

            if (!state.HasEmbeddings)
            {
                return null!; // The layer did not run in this forward (a branch not taken): nothing to log.
            }

            if (_output == ModelOutputKind.None)
            {
                LogRows(state, outputs: default, classes: 0);
                return null!;
            }

            TensorRows.CopyTo(output, ref state.Outputs, out var rows, out var classes);
            if (rows != state.Rows || classes == 0)
            {
                ReportSkipped(
                    "the model output's batch size differs from the layer's",
                    output.Dimensions == 1
                        ? $"the model output has shape [{output.size(0)}], no batch dimension: call the model with a batch (e.g. input.unsqueeze(0) for one input)"
                        : $"the model output has {rows} rows, the layer's output {state.Rows}: both must have the batch as their first dimension");
                return null!;
            }

            LogRows(state, state.Outputs.AsSpan(0, rows * classes), classes);
        }
#pragma warning disable CA1031 // Capture must never throw into the user's forward.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ReportSkipped(ex.GetType().Name, ex);
        }
        finally
        {
            state?.Reset();
        }

        return null!;
    }

    private const string Adapter = "TorchSharp module";

    private bool ShouldCapture()
    {
        if (!_set.ShouldCapture)
        {
            return false;
        }

        var context = _context.Value;
        if (context is null)
        {
            // Outside any scope a forward is production traffic, unless it is a training step with no labels given.
            return _captureUnscopedTraining || !_model.training;
        }

        return !context.IsPaused && context.Dataset is not null;
    }

    private static void CopyEmbeddings(Tensor output, ForwardState state)
    {
        TensorRows.CopyTo(output, ref state.Embeddings, out state.Rows, out state.Width);
        state.HasEmbeddings = true;
    }

    private void ReportSkipped(string kind, Exception? exception)
    {
        Interlocked.Increment(ref _skippedBatches);
        if (exception is null)
        {
            _set.ReportCaptureProblem(Adapter, kind);
        }
        else
        {
            _set.ReportCaptureError(Adapter, exception);
        }
    }

    // A skipped batch whose first occurrence is logged with its numbers.
    private void ReportSkipped(string kind, string detail)
    {
        Interlocked.Increment(ref _skippedBatches);
        _set.ReportCaptureProblem(Adapter, kind, detail);
    }
}
