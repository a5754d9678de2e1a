// podscape: the desktop cockpit.
#include "core/base/version.h"
#include "ui/mainwindow/mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Podscape"));
    QApplication::setOrganizationName(QStringLiteral("Podscape"));
    QApplication::setApplicationVersion(QString::fromLatin1(podscape::core::kVersion));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("A native desktop cockpit for Kubernetes."));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                  QStringLiteral("Render the window to FILE (PNG) and exit."), QStringLiteral("FILE"));
    parser.addOption(screenshot);
    parser.process(app);

    podscape::ui::MainWindow window;
    window.show();
    if (parser.isSet(screenshot)) {
        QApplication::processEvents();
        const QString file = parser.value(screenshot);
        if (!window.grab().save(file)) {
            qCritical("podscape: could not write the screenshot to %s", qPrintable(file));
            return 1;
        }
        return 0;
    }
    return QApplication::exec();
}
