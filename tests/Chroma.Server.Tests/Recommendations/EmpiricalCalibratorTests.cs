using Chroma.Server.Recommendations;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

public class EmpiricalCalibratorTests
{
    private static readonly EmpiricalCalibrator OneToHundred = new(Enumerable.Range(1, 100).Select(i => (double)i));

    [TestCase(0.5, 0.0)]
    [TestCase(1.0, 0.0)]
    [TestCase(50.5, 0.5)]
    [TestCase(100.0, 0.99)]
    [TestCase(1000.0, 1.0)]
    public void Percentile_OneToHundred_IsShareStrictlyBelow(double value, double expected)
    {
        Assert.That(OneToHundred.Percentile(value), Is.EqualTo(expected).Within(1e-12));
    }

    [Test]
    public void PValue_InsideRange_IsConformalUpperTail()
    {
        Assert.That(OneToHundred.PValue(1), Is.EqualTo(1.0));
        Assert.That(OneToHundred.PValue(91), Is.EqualTo(11.0 / 101));
        Assert.That(OneToHundred.PValue(100), Is.EqualTo(2.0 / 101));
    }

    [Test]
    public void PValue_BeyondLargestHeldOut_KeepsDecreasing()
    {
        var justAbove = OneToHundred.PValue(100.5);
        var farAbove = OneToHundred.PValue(110);
        var veryFarAbove = OneToHundred.PValue(200);

        Assert.That(justAbove, Is.LessThan(1.0 / 101).And.GreaterThan(0));
        Assert.That(farAbove, Is.LessThan(justAbove));
        Assert.That(veryFarAbove, Is.LessThan(farAbove).And.GreaterThan(0));
    }

    [Test]
    public void PValue_AllHeldOutEqual_StaysAtOneOverNPlusOneBeyondMaximum()
    {
        var calibrator = new EmpiricalCalibrator(Enumerable.Repeat(0.0, 99));

        Assert.That(calibrator.PValue(0), Is.EqualTo(1));
        Assert.That(calibrator.PValue(0.6), Is.EqualTo(0.01));
        Assert.That(calibrator.Percentile(0.6), Is.EqualTo(1));
    }

    [Test]
    public void PValue_WithoutTail_StaysAtOneOverNPlusOneBeyondMaximum()
    {
        var calibrator = new EmpiricalCalibrator(Enumerable.Range(0, 99).Select(i => i / 1000.0), extrapolateTail: false);

        Assert.That(calibrator.PValue(0.5), Is.EqualTo(0.01));
        Assert.That(calibrator.PValue(1), Is.EqualTo(0.01));
    }

    [Test]
    public void Constructor_NoValues_Throws()
    {
        Assert.That(() => new EmpiricalCalibrator([]), Throws.ArgumentException.With.Property("ParamName").EqualTo("heldOutValues"));
    }

    [Test]
    public void Calibrate_OverflowedValues_CountAsTheMostUnusualNeverThrow()
    {
        var calibrator = new EmpiricalCalibrator([1, 2, 3, double.PositiveInfinity, double.NaN]);

        Assert.Multiple(() =>
        {
            Assert.That(calibrator.Percentile(double.NaN), Is.EqualTo(0.6), "NaN is above every finite value");
            Assert.That(calibrator.PValue(double.NaN), Is.LessThanOrEqualTo(calibrator.PValue(3.5)));
            Assert.That(calibrator.Percentile(2.5), Is.EqualTo(0.4));
        });
    }
}
