#pragma once
// The demo: everything a newcomer needs to watch the loop without a Label Studio of their own.
// It starts a local Label Studio (from LOOPDECK_LABEL_STUDIO, the venv that the README's run
// command prepares, or `label-studio` on PATH) on a free loopback port with a throwaway data
// folder and the settings it needs to call a local backend, creates a text-classification
// project with generated sample reviews (written here, no third-party data), starts a loop
// engine of its own with its backend on a free port, registers it with the project, and then
// runs a simulated annotator that takes tasks through Label Studio's own
// /api/projects/{id}/next at a visible pace and answers with the generator's label. The loop
// trains every `trainEvery` annotations, so versions, metrics and predictions appear within
// about a minute. stop() ends all it started.
//
// The demo never touches the user's loop: its engine (store, model registry, settings, backend)
// lives in the same temporary folder as its Label Studio (dataDir()), which stop() removes.
// Owned by the window ("Try the demo", `loopdeck --demo`) or by `loopdeck demo`; lives in the
// owner's thread; never blocks it.
#include "core/labelstudio/labelstudioclient.h"

#include <QHash>
#include <QObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>
#include <QUrl>

#include <memory>

namespace loopdeck::loop {
class LoopEngine;
}

namespace loopdeck::demo {

struct DemoText {
    QString text;
    QString label;
};

// Deterministic sample reviews with overlapping vocabulary (so early versions make mistakes).
QList<DemoText> sampleTexts(int count, quint32 seed = 7);
QString demoLabelConfig();
// Where the demo looks for label-studio; empty when none is found.
QString findLabelStudio();

class DemoSession final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DemoSession)
public:
    enum class Stage { Idle, StartingLabelStudio, CreatingProject, StartingBackend, Annotating, Failed, Stopped };
    Q_ENUM(Stage)

    struct Options {
        int tasks = 300;
        int trainEvery = 20;
        int annotationIntervalMs = 700; // the simulated annotator's pace
        int maxAnnotations = 200;       // then it stops annotating (the demo keeps running)
    };

    explicit DemoSession(QObject *parent = nullptr);
    ~DemoSession() override;

    void start(const Options &options);
    void start() { start(Options()); }
    void stop();

    Stage stage() const { return m_stage; }
    QUrl labelStudioUrl() const { return m_url; }
    QString token() const { return m_token; }
    int projectId() const { return m_project; }
    int annotations() const { return m_annotated; }
    // The demo's own loop engine: created by start() (null before, and after stop()).
    loop::LoopEngine *engine() const { return m_engine.get(); }
    // The temporary folder with the demo's Label Studio and loop data (empty when none).
    QString dataDir() const;

Q_SIGNALS:
    void stageChanged(loopdeck::demo::DemoSession::Stage stage, const QString &message);
    // Label Studio is up and the project exists: the window can connect to it.
    void labelStudioReady(const QUrl &url, const QString &token, int projectId);
    void annotated(int count);
    void failed(const QString &message);

private:
    void setStage(Stage stage, const QString &message);
    void fail(const QString &message);
    void pollHealth();
    void createProject();
    void startBackend();
    void annotateNext();

    Options m_options;
    Stage m_stage = Stage::Idle;
    QProcess m_labelStudio;
    std::unique_ptr<QTemporaryDir> m_dataDir;
    std::unique_ptr<loop::LoopEngine> m_engine; // declared after m_dataDir: goes before its folder
    QUrl m_url;
    QString m_token;
    int m_project = 0;
    int m_annotated = 0;
    int m_healthTries = 0;
    QHash<QString, QString> m_truth; // text -> label
    labelstudio::LabelStudioClient m_client;
    QTimer m_timer;
};

} // namespace loopdeck::demo
