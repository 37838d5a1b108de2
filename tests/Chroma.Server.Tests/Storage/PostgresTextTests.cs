using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres.Internal;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// U+0000, which PostgreSQL text cannot hold: the ingest validator asks about each record (so a rejected batch lists
/// them with its other invalid records), and the store's own check lists every such record too. No database needed.
/// </summary>
[TestFixture]
public sealed class PostgresTextTests
{
    [Test]
    public void Check_EachFieldHoldingNul_NamesTheFieldAsTheStoreDoes()
    {
        // Arrange
        var records = Records.Sequence(5);
        records[1].Label = "a\0b";
        records[2].Metadata["k\0"] = "v";
        records[3].Inference.PredictedClass = "\0";
        records[4].InputUri = "file://\0";

        // Act
        var checks = records.Select((r, i) => PostgresText.Check(r, i)?.Message).ToArray();
        var store = PostgresText.Unstorable(StoreFixture.Prepare(records));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(checks, Is.EqualTo(new[]
            {
                null,
                "records[1].label: contains U+0000, which the PostgreSQL store cannot hold",
                "records[2].metadata: contains U+0000, which the PostgreSQL store cannot hold",
                "records[3].inference.predicted_class: contains U+0000, which the PostgreSQL store cannot hold",
                "records[4].input_uri: contains U+0000, which the PostgreSQL store cannot hold",
            }));
            Assert.That(store?.Kind, Is.EqualTo(IngestRejectionKind.UnstorableValue));
            Assert.That(store?.RecordRejections.Select(r => r.Message), Is.EqualTo(checks.Skip(1)), "the store lists every record, worded alike");
        });
    }
}
