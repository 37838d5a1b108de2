using Chroma;
using Spectre.Console;

namespace Chroma.Samples.TorchSharp;

/// <summary>
/// One round of the labeling loop: ask the server what to label (the labeling strategy), label those inputs (here
/// from the ground truth, as a person would), dismiss the ones that are no digit at all, promote the labels to
/// training, read the labeled set back from the server, retrain, and compare accuracy before and after on the
/// held-out digits nobody labeled.
/// </summary>
public static class LabelingRound
{
    /// <summary>Runs the round and prints what it did; returns the accuracy (0..1) before and after.</summary>
    /// <param name="client">The client holding the set.</param>
    /// <param name="set">The embedding set the production traffic went to.</param>
    /// <param name="training">The images the first model was trained on.</param>
    /// <param name="production">The production traffic, in the order it was served (input URIs identify each image).</param>
    /// <param name="predictions">The first model's predictions on <paramref name="production"/>.</param>
    /// <param name="budget">How many inputs to label.</param>
    /// <param name="epochs">Epochs of the retrained model (the same as the first).</param>
    /// <param name="cancellationToken">Cancels the calls to the server.</param>
    public static async Task<(double Before, double After)> RunAsync(
        ChromaClient client,
        EmbeddingSet set,
        LabelledImages training,
        LabelledImages production,
        int[] predictions,
        int budget,
        int epochs,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(production);
        ArgumentNullException.ThrowIfNull(predictions);
        var setId = set.Descriptor.Id;
        var byUri = Enumerable.Range(0, production.Count).ToDictionary(i => production.InputUris[i], StringComparer.Ordinal);

        // 1. Recommend: the labeling strategy's first `budget` entries are one batch to label.
        var batch = await client.GetRecommendationsAsync(
            setId, new RecommendationQuery { Strategy = RecommendationStrategy.Labeling, PageSize = budget }, cancellationToken).ConfigureAwait(false);
        var picked = batch.Items.Select(i => byUri[i.Record.InputUri!]).ToArray();
        bool IsDigit(int i) => production.InputUris[i].StartsWith(SampleData.DigitSource, StringComparison.Ordinal);

        // 2. Label from the ground truth; letters have no digit label: dismissed.
        var digits = batch.Items.Where(i => IsDigit(byUri[i.Record.InputUri!])).ToArray();
        var letters = batch.Items.Where(i => !IsDigit(byUri[i.Record.InputUri!])).Select(i => i.Record.Id).ToArray();
        await client.LabelAsync(setId, digits.Select(i => new RecordLabel
        {
            RecordId = i.Record.Id,
            Label = production.Labels[byUri[i.Record.InputUri!]].ToString(System.Globalization.CultureInfo.InvariantCulture),
        }), reviewer: "sample", cancellationToken).ConfigureAwait(false);
        if (letters.Length > 0)
        {
            await client.SetReviewStateAsync(setId, letters, ReviewState.Dismissed, reviewer: "sample", cancellationToken).ConfigureAwait(false);
        }

        // 3. Promote the labels to training (the server's next fit uses them).
        var promotion = await client.PromoteLabelsAsync(setId, promotedBy: "sample", cancellationToken: cancellationToken).ConfigureAwait(false);

        // 4. Retrain on the training images plus the labeled set as the server holds it (label and input URI).
        var labeled = new List<(int Index, int Label)>();
        await foreach (var record in client.GetLabeledRecordsAsync(setId, includeEmbeddings: false, cancellationToken).ConfigureAwait(false))
        {
            labeled.Add((byUri[record.InputUri!], int.Parse(record.Review!.Label!, System.Globalization.CultureInfo.InvariantCulture)));
        }

        var extra = production.Select([.. labeled.Select(l => l.Index)]);
        var wrongLabels = labeled.Count(l => production.Labels[l.Index] != l.Label);
        var augmented = LabelledImages.Mix(training, extra, seed: 7);
        using var retrained = new MnistMlp(seed: 1);
        var trainer = new MnistTrainer(retrained);
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            trainer.TrainEpoch(augmented, epoch);
        }

        // 5. Accuracy before and after, on the production digits nobody labeled.
        var pickedSet = picked.ToHashSet();
        var evaluation = Enumerable.Range(0, production.Count).Where(i => IsDigit(i) && !pickedSet.Contains(i)).ToArray();
        var after = trainer.Predict(production.Select(evaluation));
        var before = evaluation.Count(i => predictions[i] == production.Labels[i]) / (double)evaluation.Length;
        var afterAccuracy = Enumerable.Range(0, evaluation.Length).Count(k => after[k] == production.Labels[evaluation[k]]) / (double)evaluation.Length;

        AnsiConsole.MarkupLine(
            $"Labeling round: the labeling strategy's top {batch.Items.Count} held {digits.Length} digits (labeled) and {letters.Length} letters (dismissed); " +
            $"promoted {promotion.TrainingRecordIds.Count} to training; retrained on {training.Count:N0} + {labeled.Count} labeled images ({wrongLabels} wrong labels).");
        AnsiConsole.MarkupLine(
            $"Accuracy on the {evaluation.Length:N0} unlabeled held-out digits: before [bold]{100 * before:F2}%[/], after [bold]{100 * afterAccuracy:F2}%[/].");
        return (before, afterAccuracy);
    }
}
