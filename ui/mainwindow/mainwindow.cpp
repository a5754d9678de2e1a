#include "mainwindow.h"

#include "core/base/version.h"

#include <QLabel>
#include <QStatusBar>

namespace podscape::ui {

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent)
{
    setWindowTitle(QStringLiteral("Podscape"));
    auto *placeholder = new QLabel(tr("Podscape %1 — no cluster connected yet").arg(QString::fromLatin1(core::kVersion)));
    placeholder->setAlignment(Qt::AlignCenter);
    setCentralWidget(placeholder);
    statusBar()->showMessage(tr("Ready"));
    resize(1100, 700);
}

} // namespace podscape::ui
