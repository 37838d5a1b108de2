namespace Chroma.Server.Web;

/// <summary>
/// Settings of Chroma Studio, the web app the server serves on its own HTTP/1.1 port (gRPC keeps
/// its HTTP/2 port). Bound from the <c>"Chroma:Web"</c> configuration section
/// (<c>Chroma__Web__Port</c>, <c>Chroma__Web__Enabled</c>). The app uses the server's host, API key and certificate.
/// </summary>
public sealed class WebOptions
{
    /// <summary>The configuration section, below <c>Chroma</c>.</summary>
    public const string SectionName = "Web";

    /// <summary>The port used when <see cref="Port"/> is not set and the gRPC port is not 0.</summary>
    public const int DefaultPort = 50052;

    /// <summary>
    /// Gets or sets whether the server serves Studio at all. The default value is <see langword="true"/>.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets the TCP port of the web app (0..65535, not the gRPC port); 0 picks a free one
    /// (the embedded server's <c>WebEndpoint</c> then says which). The default value is
    /// <see langword="null"/>: <see cref="DefaultPort"/> (50052), or a free port when the gRPC
    /// port (<c>Chroma:Port</c>) is 0, so servers started on free ports (tests) never clash.
    /// </summary>
    public int? Port { get; set; }

    /// <summary>
    /// Gets or sets a folder whose files Studio may show as input previews (<c>Chroma__Web__InputRoot</c>): a record
    /// whose input URI is a relative path, an absolute path or a <c>file:</c> URI inside this folder, naming an image
    /// (<c>.png</c>, <c>.jpg</c>, <c>.jpeg</c>, <c>.gif</c>, <c>.webp</c>, <c>.bmp</c>), is previewed in the record
    /// detail; anything outside it (<c>..</c>, another absolute path, a link leading out) is refused. Must be an
    /// existing folder when set. The default value is <see langword="null"/>: no input file is ever served.
    /// </summary>
    public string? InputRoot { get; set; }

    /// <summary>
    /// Gets or sets how long a tag or delete made in Studio can be undone (<c>Chroma__Web__UndoWindow</c>, 1 second
    /// to 10 minutes). A delete is held back for this long (the records leave the map and the queue at once) and
    /// committed when it ends, or when the server stops. The default value is 10 seconds.
    /// </summary>
    public TimeSpan UndoWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets the host names Studio answers to besides IP addresses, <c>localhost</c>, this machine's name and
    /// <c>Chroma:Host</c>, when the server has no API key (<c>Chroma__Web__AllowedHosts</c>: names separated by
    /// <c>;</c>, or <c>*</c> for any). A guard against DNS rebinding: a request naming another host gets 403 saying
    /// which setting to change. With an API key every name is served. The default value is <see langword="null"/>.
    /// </summary>
    public string? AllowedHosts { get; set; }

    /// <summary>The port to bind for a server whose gRPC port is <paramref name="grpcPort"/>.</summary>
    internal int ResolvePort(int grpcPort) => Port ?? (grpcPort == 0 ? 0 : DefaultPort);

    /// <summary>Copies these options.</summary>
    internal WebOptions Clone() => (WebOptions)MemberwiseClone();
}
