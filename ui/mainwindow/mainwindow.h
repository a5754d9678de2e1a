#pragma once

#include <QMainWindow>

namespace podscape::ui {

// The main window. For now a frame with a status bar; the cluster views arrive with the
// client (issue 7).
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
};

} // namespace podscape::ui
