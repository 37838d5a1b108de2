using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Hosting;

namespace Chroma.Server.Security.Internal;

/// <summary>
/// Says in the log when the server's TLS certificate (<see cref="CertificateOptions"/>) is expired, not valid yet, or
/// expires within <see cref="ExpiryWarningWindow"/>: at start and once a day after. A server with an expired certificate
/// otherwise starts without a word while every client that checks the certificate refuses it (probe X, X4); the
/// certificate is read at start only, so a renewed file takes a restart.
/// </summary>
internal sealed partial class CertificateValidityWatch : BackgroundService
{
    /// <summary>How long before its end a certificate's expiry is warned of: 14 days.</summary>
    public static readonly TimeSpan ExpiryWarningWindow = TimeSpan.FromDays(14);

    private static readonly TimeSpan CheckInterval = TimeSpan.FromDays(1);

    private readonly DateTimeOffset _notBefore;
    private readonly DateTimeOffset _notAfter;
    private readonly string _subject;
    private readonly TimeProvider _time;
    private readonly ILogger<CertificateValidityWatch> _logger;

    /// <summary>Watches <paramref name="certificate"/>'s dates (read now: the watch keeps no reference to it).</summary>
    public CertificateValidityWatch(X509Certificate2 certificate, TimeProvider time, ILogger<CertificateValidityWatch> logger)
    {
        (_notBefore, _notAfter) = Dates(certificate);
        _subject = certificate.Subject;
        _time = time;
        _logger = logger;
    }

    /// <summary>The first and last moments <paramref name="certificate"/> is valid, in UTC.</summary>
    public static (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Dates(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return (new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero), new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero));
    }

    /// <summary>Whether clients that check dates refuse a certificate valid from <paramref name="notBefore"/> to <paramref name="notAfter"/> at <paramref name="now"/>.</summary>
    public static bool Refused(DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset now) => now > notAfter || now < notBefore;

    /// <summary>What is wrong with the certificate's dates at <paramref name="now"/>, or null when nothing is (or will be within the window).</summary>
    public static string? Problem(DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset now) =>
        now > notAfter
            ? $"expired on {notAfter:u}: every client that checks it refuses the connection; renew Chroma:Certificate and restart the server"
            : now < notBefore
                ? $"is not valid before {notBefore:u}: every client that checks it refuses the connection until then (is this machine's clock right?)"
                : now > notAfter - ExpiryWarningWindow
                    ? $"expires on {notAfter:u} ({(notAfter - now).TotalDays:F1} days from now); renew Chroma:Certificate and restart the server before then"
                    : null;

    /// <summary>Logs what <see cref="Problem"/> finds now: an error when clients refuse the certificate, a warning when it expires soon.</summary>
    public void Check()
    {
        var now = _time.GetUtcNow();
        if (Problem(_notBefore, _notAfter, now) is not { } problem)
        {
            return;
        }

        if (Refused(_notBefore, _notAfter, now))
        {
            Invalid(_logger, _subject, problem);
        }
        else
        {
            ExpiresSoon(_logger, _subject, problem);
        }
    }

    /// <summary>Checks once before the server starts serving (so the line comes before "listening"), then once a day.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Check();
        return base.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(CheckInterval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Check();
        }
    }

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "The server's TLS certificate ({Subject}) {Problem}")]
    private static partial void Invalid(ILogger logger, string subject, string problem);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "The server's TLS certificate ({Subject}) {Problem}")]
    private static partial void ExpiresSoon(ILogger logger, string subject, string problem);
}
